
mod report;
mod aws_adapters;
mod moto;
mod job;
mod api_calls;
mod proxy;
mod operator;
mod deploy;
mod close_loop;
mod attribution;
mod s3_state;
