//! `northstar init`

use std::path::Path;

use clap::Args;

use crate::error::{Error, Result};
use crate::lake::Lake;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing northstar.toml.
    #[arg(long)]
    pub force: bool,
}

const EXAMPLE: &str = include_str!("../../northstar.example.toml");

pub fn run(args: InitArgs, lake_dir: &Path) -> Result<()> {
    let path = Path::new("northstar.toml");
    if path.exists() && !args.force {
        return Err(Error::Usage(
            "northstar.toml exists; use --force to overwrite it".into(),
        ));
    }
    std::fs::write(path, EXAMPLE).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let lake = Lake::open_local(lake_dir)?;
    println!(
        "wrote northstar.toml; lake at {}",
        lake.local_root().display()
    );
    Ok(())
}
