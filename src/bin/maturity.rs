//! `maturity`: the command-line tool over the same store, without Grafana.
fn main() {}
