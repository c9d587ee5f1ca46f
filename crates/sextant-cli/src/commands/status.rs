//! `sextant status`.

use anyhow::Result;

use crate::args::Target;

/// What is indexed, when, at which commit, how big, and the vectors.
pub fn run(target: &Target) -> Result<()> {
    let repository = super::query_target(target)?;
    crate::output::status(&repository.status()?, target.json)
}
