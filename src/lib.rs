//! Data-Driven Maturity: a Grafana backend datasource that records the evidence of how
//! teams use their metrics, serves it back as annotations and scores every team on the
//! seven-level maturity ladder of SPEC §5.
//!
//! # Layout
//! Dependencies point inward: `plugin` → `app` → `engine`, with `store` behind a trait.
//!
//! - [`model`]: the domain objects (teams, events, targets) and wire-value parsing.
//! - [`settings`]: `jsonData` / `secureJsonData` and the store path rules of SPEC §2: one
//!   parser for the plugin and the command-line tool.
//! - [`engine`]: the pure maturity ladder and target math: no clock, no I/O.
//! - [`store`]: the storage trait and its SQLite implementation.
//! - [`grafana`]: the narrow client of Grafana's own HTTP API (annotations, dashboard
//!   versions, datasource queries, the token's permissions), with typed errors.
//! - [`app`]: the use cases: roles, validation, writes, evidence handed to the engine.
//! - [`plugin`]: the gRPC edge Grafana talks to: queries, resources, health, passive views.
//!   Each query type has one home in [`plugin::queries`] (its fields, decode, use case call
//!   and frame), named by one registry from which [`query_schema`] writes the JSON Schema
//!   the frontend's query types are generated from.
//! - [`cli`]: the `maturity` command-line tool: migrate, export, import, report, demo,
//!   where, query-schema. It never imports [`plugin`]: the binary hands it the schema
//!   writer.
#![deny(missing_docs)]
// No panics on request paths: tests may unwrap, the product may not.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)
)]

pub mod app;
pub mod cli;
pub mod engine;
pub mod grafana;
pub mod model;
pub mod plugin;
pub mod settings;
pub mod store;

pub use plugin::queries::{query_schema, query_schema_text};
