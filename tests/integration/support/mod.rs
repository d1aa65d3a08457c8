//! What the integration tests share, and the only module their files import from: the moto
//! server and its seeding (`moto`), the fault-injecting proxy in front of it (`proxy`), the
//! Lambda Runtime API emulator (`runtime_api`), the binary runner with its configuration writers
//! (`run`), a NAT in eu-west-1 with its recipients (`eu`), one NAT's world of the crash matrix (`world`), VPC set-up (`vpc`), flow-log record
//! builders (`records`), the topic's subscribers (`subscribers`) and the deployed template
//! (`stack`).

pub mod eu;
pub mod moto;
pub mod proxy;
pub mod records;
pub mod run;
pub mod runtime_api;
pub mod stack;
pub mod subscribers;
pub mod vpc;
pub mod world;
