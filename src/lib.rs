//! nat-flowrec as a library: the CLI's commands, the pure core (trigger, decision, event log
//! fold), the ports to AWS and their adapters. `main.rs` (and later a Lambda handler) are thin
//! entry points over `commands::run`.

pub mod cli;
pub mod commands;
pub mod controller;
pub mod ports;
pub mod aws;
pub mod sim;
pub mod config;
pub mod core;
pub mod store;
