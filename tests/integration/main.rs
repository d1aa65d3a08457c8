
mod report;
mod aws_adapters;
mod moto;
mod job;
mod api_calls;
mod proxy;
