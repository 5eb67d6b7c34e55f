//! The library: the speech texts read from `data/texts/*.md`, synced into the store,
//! and served from the store's contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::{Store, StoreError, SyncOutcome};
use crate::text::parse::decode_utf8;
use crate::text::{Document, ParseError, parse_document};

/// Why the texts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The texts directory could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error (in the message, not a `source`: printed once).
        reason: std::io::Error,
    },
    /// A text file is malformed or not UTF-8 (the error names the file and line).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// No text was found.
    #[error("no speech texts (*.md) in {0}")]
    Empty(PathBuf),
    /// Two files declare the same document id.
    #[error("{file}: document id \"{id}\" is already used by another file")]
    DuplicateId {
        /// The second file.
        file: String,
        /// The id.
        id: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The loaded documents. The first (by id) is the default one that chats study.
#[derive(Debug, Clone)]
pub struct Library {
    documents: Vec<Arc<Document>>,
}

/// What loading did to the store, per document (for the log and the restart test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// `(document id, outcome)` for each document.
    pub synced: Vec<(String, SyncOutcome)>,
}

impl Library {
    /// Parses every `texts/*.md` under `data_dir`, writes changed ones to the store and
    /// serves all of them from the store.
    pub fn load(data_dir: &Path, store: &Store) -> Result<(Self, LoadReport), LibraryError> {
        let texts = data_dir.join("texts");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |reason| LibraryError::Io { path, reason }
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&texts)
            .map_err(io(&texts))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(LibraryError::Empty(texts));
        }
        let mut parsed: Vec<(Document, u64)> = Vec::new();
        for file in &files {
            let bytes = std::fs::read(file).map_err(io(file))?;
            let name = file.display().to_string();
            let source = decode_utf8(&name, &bytes)?;
            let document = parse_document(&name, source)?;
            if parsed.iter().any(|(d, _)| d.id == document.id) {
                return Err(LibraryError::DuplicateId {
                    file: file.display().to_string(),
                    id: document.id,
                });
            }
            parsed.push((document, content_hash(source.as_bytes())));
        }
        Self::from_documents(parsed, store)
    }

    /// Syncs already parsed documents (with their content hashes) and serves them from the store.
    pub fn from_documents(
        parsed: Vec<(Document, u64)>,
        store: &Store,
    ) -> Result<(Self, LoadReport), LibraryError> {
        let mut documents = Vec::new();
        let mut synced = Vec::new();
        for (document, hash) in parsed {
            synced.push((document.id.clone(), store.sync_document(&document, hash)?));
            let stored = store
                .load_document(&document.id)?
                .ok_or_else(|| StoreError::Corrupt {
                    tree: crate::store::trees::META,
                    reason: format!("document {} vanished after writing", document.id),
                })?;
            documents.push(Arc::new(stored));
        }
        documents.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((Self { documents }, LoadReport { synced }))
    }

    /// The document chats study by default.
    pub fn default_document(&self) -> &Arc<Document> {
        &self.documents[0]
    }

    /// A document by id.
    pub fn document(&self, id: &str) -> Option<&Arc<Document>> {
        self.documents.iter().find(|d| d.id == id)
    }

    /// All documents, by id.
    pub fn documents(&self) -> &[Arc<Document>] {
        &self.documents
    }
}

/// A content hash that stays the same across builds and platforms (FNV-1a, 64 bit).
pub fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
