
mod report;
mod aws_adapters;
mod moto;
mod job;
