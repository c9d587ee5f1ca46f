//! Local text embeddings for Sextant.
//!
//! [`Embedder`] runs an ONNX sentence-embedding model through fastembed, with ONNX Runtime loaded dynamically
//! from a file the project's set-up script provisioned (`indexer-config/setup-models.sh`), so nothing is
//! downloaded at build or run time. The model is whatever folder the configuration names: `model.onnx`, the
//! tokenizer files, and a `sextant-model.toml` declaring dimension, pooling and output name, so a
//! code-specialised model can replace the default all-MiniLM-L6-v2 without code changes.
//!
//! [`VectorCache`] keeps every vector ever computed, keyed by a hash of the text that was embedded, so
//! re-indexing, editing one file or checking out another commit embeds only text never seen before.
//! [`chunk_text`] decides what text represents a chunk.

mod cache;
mod text;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

pub use cache::{CacheError, VectorCache};
pub use text::{chunk_text, text_key};

/// The command that provisions the default model and runtime, named in every "not found" error.
pub const SETUP_COMMAND: &str = "indexer-config/setup-models.sh";

/// The file in a model folder that says how to run the model.
pub const MODEL_DESCRIPTOR: &str = "sextant-model.toml";

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The ONNX Runtime library file does not exist.
    #[error("ONNX Runtime not found at {path}; run `{SETUP_COMMAND}` (or set [embed] runtime)")]
    RuntimeMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The library exists but could not be loaded, or is older than 1.24.
    #[error(
        "cannot load ONNX Runtime from {path}: {message}; run `{SETUP_COMMAND}` for a supported version (>= 1.24)"
    )]
    RuntimeUnusable {
        /// The library.
        path: PathBuf,
        /// What the loader said.
        message: String,
    },
    /// The model folder or one of its files is missing.
    #[error("embedding model file {path} not found; run `{SETUP_COMMAND}` (or set [embed] model_dir)")]
    ModelMissing {
        /// The missing file.
        path: PathBuf,
    },
    /// The model folder's descriptor is malformed.
    #[error("{path}: {message}")]
    BadDescriptor {
        /// The descriptor file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A model file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// ONNX Runtime refused the model or failed while running it.
    #[error("embedding model error: {0}")]
    Model(String),
    /// The model returned vectors of an unexpected size.
    #[error("the model returned {found}-dimensional vectors, its descriptor declares {declared}")]
    DimensionMismatch {
        /// From the descriptor.
        declared: usize,
        /// From the model.
        found: usize,
    },
}

/// How token vectors become one text vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Average over tokens, weighted by the attention mask.
    Mean,
    /// The first (`[CLS]`) token.
    Cls,
}

/// A model folder's `sextant-model.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDescriptor {
    /// Display name.
    pub name: String,
    /// Output dimension.
    pub dimension: usize,
    /// Pooling applied to token vectors.
    pub pooling: Pooling,
    /// Name of the model output holding token vectors (`last_hidden_state`).
    pub output: String,
    /// The model's own input limit in tokens.
    pub max_tokens: usize,
}

impl ModelDescriptor {
    /// Reads `<dir>/sextant-model.toml`.
    pub fn load(dir: &Path) -> Result<ModelDescriptor, EmbedError> {
        let path = dir.join(MODEL_DESCRIPTOR);
        let text = read_to_string(&path)?;
        let descriptor: ModelDescriptor = toml::from_str(&text)
            .map_err(|e| EmbedError::BadDescriptor { path: path.clone(), message: e.to_string() })?;
        if descriptor.dimension == 0 || descriptor.dimension > 8192 {
            return Err(EmbedError::BadDescriptor {
                path,
                message: format!("dimension {} is outside 1..=8192", descriptor.dimension),
            });
        }
        Ok(descriptor)
    }
}

/// Where the model and runtime are, and how to run them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderOptions {
    /// The model folder.
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library.
    pub runtime: PathBuf,
    /// Longest input in tokens (capped at the model's limit).
    pub max_tokens: usize,
    /// Intra-op threads (0: ONNX Runtime's default, one per core).
    pub threads: usize,
    /// Load for a few embeddings (queries) rather than many: ONNX Runtime skips constant folding, which made
    /// loading the int8 MiniLM about 2× faster (89 against 185-216 ms on 2 cores, first query included: 130-140
    /// against 190-220 ms) and a batch a few percent slower (726 against 703-719 ms for 16 × 256 tokens). The
    /// vectors agree to cosine 0.99999 or more (floats differ in their last bits); the fingerprint does not change.
    pub quick_start: bool,
}

impl EmbedderOptions {
    /// Options from the `[embed]` configuration section.
    pub fn from_settings(settings: &sextant_config::EmbedSettings) -> EmbedderOptions {
        EmbedderOptions {
            model_dir: sextant_config::expand_home(&settings.model_dir),
            runtime: sextant_config::expand_home(&settings.runtime),
            max_tokens: settings.max_tokens,
            threads: settings.threads,
            quick_start: false,
        }
    }
}

/// A loaded embedding model. Calls are serialised: one ONNX session uses every core already.
pub struct Embedder {
    model: Mutex<fastembed::TextEmbedding>,
    descriptor: ModelDescriptor,
    fingerprint: u64,
    max_tokens: usize,
    quick_start: bool,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("descriptor", &self.descriptor)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// A model's files as read from its folder, and the fingerprint of the vector space they make.
struct ModelFiles {
    descriptor: ModelDescriptor,
    onnx: Vec<u8>,
    tokenizer_files: fastembed::TokenizerFiles,
    max_tokens: usize,
    fingerprint: u64,
}

impl ModelFiles {
    fn read(options: &EmbedderOptions) -> Result<ModelFiles, EmbedError> {
        let dir = &options.model_dir;
        let descriptor = ModelDescriptor::load(dir).map_err(|e| match e {
            EmbedError::Read { path, source } if source.kind() == std::io::ErrorKind::NotFound => {
                EmbedError::ModelMissing { path }
            }
            other => other,
        })?;
        let read = |name: &str| -> Result<Vec<u8>, EmbedError> {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => EmbedError::ModelMissing { path },
                _ => EmbedError::Read { path, source },
            })
        };
        let onnx = read("model.onnx")?;
        let tokenizer_files = fastembed::TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let max_tokens = options.max_tokens.clamp(8, descriptor.max_tokens.max(8));
        // The fingerprint names the vector space: same weights, tokenizer, pooling and input limit, same vectors.
        // Streamed (the same digest as over the concatenation), so the model's bytes are not copied.
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(&onnx);
        hasher.update(&tokenizer_files.tokenizer_file);
        hasher.update(format!("{:?}/{}/{}", descriptor.pooling, descriptor.output, max_tokens).as_bytes());
        let fingerprint = hasher.digest();

        Ok(ModelFiles { descriptor, onnx, tokenizer_files, max_tokens, fingerprint })
    }
}

/// The fingerprint the model in `options.model_dir` has once loaded ([`Embedder::fingerprint`]), from its files
/// alone (ONNX Runtime is not loaded): whether stored vectors are still of the configured model.
pub fn model_fingerprint(options: &EmbedderOptions) -> Result<u64, EmbedError> {
    ModelFiles::read(options).map(|files| files.fingerprint)
}

impl Embedder {
    /// Loads ONNX Runtime and the model. Every missing or unusable piece is an error naming the set-up command.
    pub fn load(options: &EmbedderOptions) -> Result<Embedder, EmbedError> {
        // Load the runtime first, ourselves: fastembed would otherwise panic inside ort on a missing library.
        if !options.runtime.is_file() {
            return Err(EmbedError::RuntimeMissing { path: options.runtime.clone() });
        }
        ort::init_from(&options.runtime)
            .map_err(|e| EmbedError::RuntimeUnusable { path: options.runtime.clone(), message: e.to_string() })?;

        let ModelFiles { descriptor, onnx, tokenizer_files, max_tokens, fingerprint } = ModelFiles::read(options)?;

        let pooling = match descriptor.pooling {
            Pooling::Mean => fastembed::Pooling::Mean,
            Pooling::Cls => fastembed::Pooling::Cls,
        };
        // fastembed wants a 'static output name; one small string per loaded model.
        let output_name: &'static str = Box::leak(descriptor.output.clone().into_boxed_str());
        let mut model = fastembed::UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(pooling);
        model.output_key = Some(fastembed::OutputKey::ByName(output_name));
        let mut init = fastembed::InitOptionsUserDefined::new().with_max_length(max_tokens);
        if options.threads > 0 {
            init = init.with_intra_threads(options.threads);
        }
        if options.quick_start {
            init = init.with_session_config("optimization.disable_specified_optimizers", "ConstantFolding");
        }
        let model = fastembed::TextEmbedding::try_new_from_user_defined(model, init)
            .map_err(|e| EmbedError::Model(format!("{e:#}")))?;
        let embedder = Embedder {
            model: Mutex::new(model),
            descriptor,
            fingerprint,
            max_tokens,
            quick_start: options.quick_start,
        };
        // One probe call checks the declared dimension before anything is stored.
        embedder.embed(&["probe"])?;
        Ok(embedder)
    }

    /// Whether it was loaded for queries ([`EmbedderOptions::quick_start`]).
    pub fn quick_start(&self) -> bool {
        self.quick_start
    }

    /// The model's descriptor.
    pub fn descriptor(&self) -> &ModelDescriptor {
        &self.descriptor
    }

    /// Output dimension.
    pub fn dimension(&self) -> usize {
        self.descriptor.dimension
    }

    /// Identifies the vector space (weights, tokenizer, pooling, input limit).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Longest input in tokens.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Embeds texts in one model call; vectors are L2-normalised. Callers batch (8-16 texts): memory grows with
    /// the batch while throughput does not.
    pub fn embed<S: AsRef<str> + Send + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut model = self.model.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let vectors = model.embed(texts, Some(texts.len())).map_err(|e| EmbedError::Model(format!("{e:#}")))?;
        drop(model);
        for vector in &vectors {
            if vector.len() != self.descriptor.dimension {
                return Err(EmbedError::DimensionMismatch { declared: self.descriptor.dimension, found: vector.len() });
            }
        }
        Ok(vectors)
    }

    /// Embeds one query.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        self.embed(&[query])?.pop().ok_or_else(|| EmbedError::Model("no vector returned".into()))
    }
}

fn read_to_string(path: &Path) -> Result<String, EmbedError> {
    std::fs::read_to_string(path).map_err(|source| EmbedError::Read { path: path.to_path_buf(), source })
}
