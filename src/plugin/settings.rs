//! The datasource settings as the plugin edge names them. They live in [`crate::settings`]
//! (one parser and one set of store path rules for the plugin and the `maturity` tool);
//! this module only re-exports what the plugin's modules and `main.rs` use.

pub use crate::settings::{
    parse, resolve_path, DatasourceSettings, PathEnv, PathRule, Secret, Storage,
};
