//! `maturity`: the command-line tool over the same store, without Grafana (SPEC §7).
//! Everything it does lives in [`maturity::cli`]; this file only hands over the arguments.

fn main() -> std::process::ExitCode {
    maturity::cli::main_with(std::env::args_os())
}
