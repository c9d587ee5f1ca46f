//! Runs the provisioned model (indexer-config/setup-models.sh; `.ci/run` runs it first).

use sextant_embed::{EmbedError, Embedder, EmbedderOptions};

fn default_options() -> EmbedderOptions {
    let config = sextant_config::Config::defaults().expect("defaults");
    EmbedderOptions::from_settings(&config.embed)
}

fn embedder() -> Embedder {
    Embedder::load(&default_options()).unwrap_or_else(|e| panic!("{e} (these tests need the provisioned model)"))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn vectors_are_deterministic_normalised_and_meaningful() {
    let embedder = embedder();
    assert_eq!(embedder.dimension(), 384);
    let texts = [
        "fn read_config(path: &Path) -> Config { parse the settings file from disk }",
        "load configuration settings from a file",
        "draw a red circle on the canvas",
    ];
    let first = embedder.embed(&texts).expect("embed");
    let second = embedder.embed(&texts).expect("embed again");
    assert_eq!(first, second, "same input, same vectors");
    for vector in &first {
        assert_eq!(vector.len(), 384);
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
    }
    // A batch gives the same vector as a single call (padding must not leak into mean pooling).
    let alone = embedder.embed_query(texts[1]).expect("query");
    assert!(cosine(&alone, &first[1]) > 0.999);
    let related = cosine(&first[0], &first[1]);
    let unrelated = cosine(&first[0], &first[2]);
    assert!(related > unrelated + 0.2, "related {related} vs unrelated {unrelated}");
}

#[test]
fn a_model_loaded_for_queries_gives_the_same_vectors_with_the_same_fingerprint() {
    let throughput = embedder();
    let queries = Embedder::load(&EmbedderOptions { quick_start: true, ..default_options() }).expect("load");
    assert!(queries.quick_start() && !throughput.quick_start());
    assert_eq!(queries.fingerprint(), throughput.fingerprint());
    let texts = ["fn read_config(path: &Path) -> Config", "load configuration settings from a file", "x"];
    let (fast, full) = (queries.embed(&texts).expect("embed"), throughput.embed(&texts).expect("embed"));
    for (a, b) in fast.iter().zip(&full) {
        assert!(cosine(a, b) > 0.99999, "{}", cosine(a, b));
    }
}

#[test]
fn a_missing_runtime_or_model_is_an_error_naming_the_set_up_command() {
    let mut options = default_options();
    options.runtime = "/nonexistent/libonnxruntime.so".into();
    let error = Embedder::load(&options).expect_err("missing runtime");
    assert!(matches!(error, EmbedError::RuntimeMissing { .. }));
    assert!(error.to_string().contains("setup-models.sh"), "{error}");

    let mut options = default_options();
    let empty = tempfile::tempdir().expect("tempdir");
    options.model_dir = empty.path().to_path_buf();
    let error = Embedder::load(&options).expect_err("missing model");
    assert!(matches!(error, EmbedError::ModelMissing { .. }), "{error}");
    assert!(error.to_string().contains("setup-models.sh"), "{error}");

    // A file that is not a shared library is refused, not a crash.
    let bogus = empty.path().join("libonnxruntime.so");
    std::fs::write(&bogus, b"not a library").expect("write");
    let mut options = default_options();
    options.runtime = bogus;
    // ONNX Runtime may already be loaded in this process by the other test; then the bogus path is not even
    // opened. Either outcome is acceptable as long as nothing panics.
    let _ = Embedder::load(&options);
}
