//! `sextant serve`: host repositories over gRPC (and the overview pages over HTTP).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sextant_engine::RepositorySpec;

use crate::args::Command;

/// One `[[repository]]` of a `--repos-file`.
#[derive(Debug, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RepositoryEntry {
    path: PathBuf,
    name: Option<String>,
    index_dir: Option<PathBuf>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReposFile {
    repository: Vec<RepositoryEntry>,
}

/// Reads a repositories file; relative paths are relative to the file.
fn load_repos_file(file: &Path) -> Result<Vec<RepositoryEntry>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed: ReposFile =
        toml::from_str(&text).with_context(|| format!("{} is not a valid repositories file", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    Ok(parsed
        .repository
        .into_iter()
        .map(|entry| RepositoryEntry {
            path: base.join(&entry.path),
            name: entry.name,
            index_dir: entry.index_dir.map(|d| base.join(d)),
        })
        .collect())
}

/// The repositories named on the command line (`PATH` or `NAME=PATH`) and in a repositories file; the current
/// directory when there are none. `--index-dir` applies only to a single repository.
pub fn repository_specs(
    arguments: &[String],
    repos_file: Option<&Path>,
    index_dir: Option<&Path>,
) -> Result<Vec<RepositorySpec>> {
    let listed = match repos_file {
        Some(file) => load_repos_file(file)?,
        None => Vec::new(),
    };
    let mut arguments = arguments.to_vec();
    if arguments.is_empty() && listed.is_empty() {
        arguments.push(".".into());
    }
    if index_dir.is_some() && arguments.len() + listed.len() > 1 {
        bail!("--index-dir can only be used with a single repository");
    }
    let mut specs = Vec::new();
    for entry in listed {
        let mut spec = RepositorySpec::for_root(&entry.path, entry.index_dir)
            .with_context(|| format!("cannot open {}", entry.path.display()))?;
        if let Some(name) = entry.name {
            spec.name = name;
        }
        specs.push(spec);
    }
    for argument in &arguments {
        let (name, path) = match argument.split_once('=') {
            Some((name, path)) => (Some(name.to_string()), PathBuf::from(path)),
            None => (None, PathBuf::from(argument)),
        };
        let mut spec = RepositorySpec::for_root(&path, index_dir.map(Path::to_path_buf))
            .with_context(|| format!("cannot open {}", path.display()))?;
        if let Some(name) = name {
            spec.name = name;
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// Starts the server and runs until Ctrl-C.
pub fn run(command: Command) -> Result<()> {
    let Command::Serve {
        repositories,
        repos_file,
        listen,
        http_listen,
        no_http,
        token_env,
        no_watch,
        no_embed,
        max_budget,
        max_concurrency,
        target,
    } = command
    else {
        unreachable!("dispatched on Command::Serve")
    };
    let specs = repository_specs(&repositories, repos_file.as_deref(), target.index_dir.as_deref())?;
    let mut config = sextant_server::ServerConfig::new(specs);
    config.listen = listen;
    config.http_listen = if no_http { None } else { Some(http_listen) };
    config.token = std::env::var(&token_env).ok().filter(|t| !t.is_empty());
    config.watch = !no_watch;
    config.engine.embed = !no_embed;
    config.max_budget = max_budget;
    config.max_concurrency = max_concurrency;
    if !listen.ip().is_loopback() && config.token.is_none() {
        eprintln!("warning: listening on {listen} without a token; set {token_env} to require one");
    }
    super::runtime()?.block_on(async move {
        let running = sextant_server::start(config).await?;
        let names: Vec<String> = running
            .repositories
            .repositories()
            .iter()
            .map(|r| format!("{} ({})", r.name(), r.spec().root.display()))
            .collect();
        eprintln!("sextant serving {} on {}", names.join(", "), running.addr);
        if let Some(http) = running.http_addr {
            eprintln!("overview pages at http://{http}/");
        }
        tokio::select! {
            result = running.wait() => result.map_err(anyhow::Error::from),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_file_resolves_paths_against_itself() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("repos.toml");
        std::fs::write(&file, "[[repository]]\nname = \"api\"\npath = \"services/api\"\nindex_dir = \"idx/api\"\n\n[[repository]]\npath = \"/abs/web\"\n").unwrap();
        let entries = load_repos_file(&file).unwrap();
        assert_eq!(
            entries[0],
            RepositoryEntry {
                path: dir.path().join("services/api"),
                name: Some("api".into()),
                index_dir: Some(dir.path().join("idx/api"))
            }
        );
        assert_eq!(entries[1].path, PathBuf::from("/abs/web"));
        std::fs::write(&file, "[[repository]]\npaht = \"x\"\n").unwrap();
        let error = format!("{:#}", load_repos_file(&file).unwrap_err());
        assert!(error.contains("paht"), "{error}");
    }
}
