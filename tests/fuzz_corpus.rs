//! The fuzz corpus as a regular test: every seed under `fuzz/corpus/` and every input the
//! fuzzer once crashed on (kept under `fuzz/regressions/`) goes through what the fuzz targets
//! do (decode, type for both versions, re-encode) and must not panic.

use std::path::Path;

use voltgate::ocpp::{CallRejection, Frame, OcppVersion, Request};

fn exercise(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match Frame::decode(&text) {
        Ok(frame) => {
            if let Frame::Call { action, payload, .. } = &frame {
                for version in [OcppVersion::V16, OcppVersion::V201] {
                    let _ = Request::parse(version, action, payload.clone());
                }
            }
            let _ = frame.encode();
        }
        Err(err) => {
            let _ = CallRejection::new(err.code, err.description);
        }
    }
}

fn inputs(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            inputs(&path, found);
        } else if path.file_name().is_some_and(|n| n != ".keep") {
            found.push(path);
        }
    }
}

#[test]
fn every_corpus_seed_and_past_crash_decodes_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    inputs(&root.join("corpus"), &mut found);
    let seeds = found.len();
    inputs(&root.join("regressions"), &mut found);
    assert!(seeds >= 100, "the seed corpus is in the repository ({seeds} files)");
    for path in &found {
        // A fuzzer running meanwhile may have replaced the file with a smaller one.
        let Ok(data) = std::fs::read(path) else { continue };
        let outcome = std::panic::catch_unwind(|| exercise(&data));
        assert!(outcome.is_ok(), "panicked on {}", path.display());
    }
}
