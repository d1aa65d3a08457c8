//! `nat-flowrec generate`: a seeded synthetic flow-log file in the default 14-field format (both
//! NAT legs, AWS-service traffic, NODATA and REJECT lines, an IPv6 share), so anyone can recreate
//! the benchmark inputs byte for byte.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use nat_flowrec_parsers::synth::{Generator, Options};

use crate::cli::GenerateArgs;

pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let options = Options {
        internal_hosts: args.hosts,
        remote_hosts: args.remotes,
        ..Options::default()
    };
    let mut generator = Generator::new(args.seed, options);
    if args.out.as_os_str() == "-" {
        let mut out = BufWriter::new(io::stdout().lock());
        return finish(
            generator
                .write_lines(&mut out, args.lines)
                .and_then(|()| out.flush()),
        );
    }
    let path = &args.out;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp_name);
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    generator
        .write_lines(&mut out, args.lines)
        .and_then(|()| out.flush())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} into place", tmp.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// A closed pipe (`| head`) is the reader's choice, not an error.
fn finish(result: io::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(ExitCode::SUCCESS),
    }
}
