//! What the integration tests share, and the only module their files import from: the moto
//! server, the fault-injecting proxy in front of it, the Lambda Runtime API emulator, and the
//! binary runner with its configuration writers.

pub mod moto;
pub mod proxy;
pub mod run;
pub mod runtime_api;
