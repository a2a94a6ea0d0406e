//! The operator's declared storage: parsed from YAML or HCL, validated, and turned
//! into one [`Desired`] model. Pure: reads nothing but the config file it is given.
//!
//! Stages, like ripgrep's: format parsers (`yaml`, `hcl`) produce one format-neutral
//! [`raw`] tree that keeps byte spans; `decode` walks it section by section, the named
//! cross-entity rules in `rules` check what spans sections, and only then is the model
//! the planner trusts built. Every name and path rule is in `names`, which the planner
//! calls too. Both formats give the identical model by construction.

mod decode;
mod decoded;
mod desired_json;
pub mod diagnostic;
mod hcl;
pub mod heketi;
pub mod model;
pub(crate) mod names;
mod raw;
mod rules;
pub mod schema;
mod ssh_options;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use diagnostic::{Diagnostic, Severity, codes, render_report, report_json};
pub use model::*;
pub use raw::Span;

/// Largest config file brickyard reads. Real configs are a few KiB; the budget keeps
/// a wrong `-c /dev/zero` or a huge generated file from eating memory.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// File names `discover` looks for, in this order.
pub const DEFAULT_FILES: &[&str] = &["brickyard.yaml", "brickyard.yml", "brickyard.hcl"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Yaml,
    Hcl,
}

impl Format {
    /// By extension: `.yaml`/`.yml` or `.hcl`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "hcl" => Some(Format::Hcl),
            _ => None,
        }
    }
}

/// The result of reading a config: the model when valid, and every finding.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// `Some` exactly when no diagnostic is an error (warnings may be present).
    pub desired: Option<Desired>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    /// Human report (miette graphical, fixed width, optional color).
    pub fn render(&self, width: usize, color: bool) -> String {
        render_report(&self.diagnostics, width, color)
    }

    /// The `brickyard validate --format json` document.
    pub fn to_json(&self) -> serde_json::Value {
        report_json(&self.diagnostics)
    }

    fn failed(d: Diagnostic) -> Loaded {
        Loaded {
            desired: None,
            diagnostics: vec![d],
        }
    }
}

/// Why a config could not even be looked at (as opposed to being invalid).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(brickyard::config::read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: unknown config format")]
    #[diagnostic(
        code(brickyard::config::format),
        help("name the file with .yaml, .yml or .hcl")
    )]
    UnknownFormat { path: PathBuf },
    #[error("no config file in {dir}")]
    #[diagnostic(
        code(brickyard::config::not_found),
        help("create brickyard.yaml (or .yml/.hcl) there, or pass -c FILE")
    )]
    NotFound { dir: PathBuf },
    #[error("two config files in {dir}: {first} and {second}")]
    #[diagnostic(
        code(brickyard::config::ambiguous),
        help("keep one of them, or pick one with -c FILE")
    )]
    Ambiguous {
        dir: PathBuf,
        first: String,
        second: String,
    },
}

/// Find the config in `dir`: exactly one of [`DEFAULT_FILES`].
pub fn discover(dir: &Path) -> Result<PathBuf, LoadError> {
    let found: Vec<&str> = DEFAULT_FILES
        .iter()
        .copied()
        .filter(|f| dir.join(f).is_file())
        .collect();
    match found.as_slice() {
        [] => Err(LoadError::NotFound {
            dir: dir.to_path_buf(),
        }),
        [one] => Ok(dir.join(one)),
        [first, second, ..] => Err(LoadError::Ambiguous {
            dir: dir.to_path_buf(),
            first: first.to_string(),
            second: second.to_string(),
        }),
    }
}

/// Read and validate a config file. The format comes from the extension; a `.json`
/// file is the Desired model, validated the same way (see `desired_json`). A file over
/// [`MAX_CONFIG_BYTES`] or not UTF-8 is an invalid config (a diagnostic), not a
/// `LoadError`.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    use std::io::Read;
    let json = path.extension().is_some_and(|e| e == "json");
    let format = Format::from_path(path);
    if format.is_none() && !json {
        return Err(LoadError::UnknownFormat {
            path: path.to_path_buf(),
        });
    }
    let read_err = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    // read one byte past the budget to know it was exceeded without reading it all
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    let name = path.display().to_string();
    Ok(match format {
        Some(format) => parse_bytes(&name, &bytes, format),
        None => desired_json::parse(&name, &bytes),
    })
}

/// Validate config bytes (size budget and UTF-8 checked here).
pub fn parse_bytes(file_name: &str, bytes: &[u8], format: Format) -> Loaded {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Loaded::failed(too_large(file_name));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_str(file_name, text, format),
        Err(e) => {
            let at = e.valid_up_to();
            let lossy = Arc::new(String::from_utf8_lossy(bytes).into_owned());
            let d = Diagnostic::error(codes::NOT_UTF8, "the config is not valid UTF-8")
                .label(raw::Span::new(at, at + 1), "invalid byte here")
                .help("save the file as UTF-8");
            Loaded::failed(d.with_source(&Arc::from(file_name), &lossy))
        }
    }
}

fn too_large(file_name: &str) -> Diagnostic {
    Diagnostic::error(
        codes::TOO_LARGE,
        format!("the config is larger than {} KiB", MAX_CONFIG_BYTES / 1024),
    )
    .help("a brickyard config is a few KiB; is this the right file?")
    .with_file(file_name)
}

/// At most this many findings are kept (then one saying how many more there were).
pub const MAX_DIAGNOSTICS: usize = 200;

/// Validate config text. Never panics; every failure is at least one error diagnostic.
pub fn parse_str(file_name: &str, text: &str, format: Format) -> Loaded {
    if text.len() > MAX_CONFIG_BYTES {
        return Loaded::failed(too_large(file_name));
    }
    let file: Arc<str> = Arc::from(file_name);
    let shared = Arc::new(text.to_string());
    let (desired, diagnostics) = match format {
        Format::Yaml => match yaml::parse(text) {
            Ok(root) => decode::validate(&root, text, format),
            Err(d) => (None, vec![d]),
        },
        Format::Hcl => match hcl::parse(text) {
            Ok((root, mut found)) => {
                let (desired, more) = decode::validate(&root, text, format);
                found.extend(more);
                (desired, found)
            }
            Err(d) => (None, vec![d]),
        },
    };
    let mut diagnostics = diagnostics;
    // finding #17: rendering a finding rescans the text, so thousands of them (a 1 MiB
    // file of unknown fields) took minutes; nobody reads past the first few hundred
    if diagnostics.len() > MAX_DIAGNOSTICS {
        let more = diagnostics.len() - MAX_DIAGNOSTICS;
        diagnostics.truncate(MAX_DIAGNOSTICS);
        diagnostics.push(Diagnostic::error(
            codes::TOO_MANY_FINDINGS,
            format!("and {more} more findings, not shown; fix these first"),
        ));
    }
    let diagnostics: Vec<Diagnostic> = diagnostics
        .into_iter()
        .map(|d| d.with_source(&file, &shared))
        .collect();
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Loaded {
        desired: desired.filter(|_| !has_errors),
        diagnostics,
    }
}
