//! `maturity`: the command-line tool over the same store, without Grafana (SPEC §7).
//! Everything it does lives in [`maturity::cli`]; this file only hands over the arguments
//! and wires in the query schema, which the plugin's query registry writes (the CLI itself
//! never imports the plugin edge).

fn main() -> std::process::ExitCode {
    maturity::cli::main_with(std::env::args_os(), maturity::query_schema_text)
}
