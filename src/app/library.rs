//! The library: the speech texts read from `data/texts/*.md`, synced into the store,
//! the texts imported into the store with `studybot import`, all served from the
//! store's contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::store::{ImportedText, Store, StoreError, SyncOutcome};
use crate::text::import::{Imported, data_file};
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
    /// An import would replace a text shipped in `data/texts`.
    #[error(
        "编号“{0}”是 data/texts 中自带文本的编号，不能被导入的文本替换：请用 --id 另取一个编号。"
    )]
    ShippedId(String),
    /// An import would replace an imported text, and `--replace` was not given.
    #[error("编号“{0}”的文本已经存在：要替换它请加 --replace，或用 --id 另取一个编号。")]
    TakenId(String),
    /// An id that differs from an imported text's only in case.
    #[error(
        "编号“{id}”与已有文本的编号“{taken}”只差大小写，发送 /use 时分不清：请用 --id 另取一个编号（或用 --replace 替换“{taken}”时写成“{taken}”）。"
    )]
    TwinId {
        /// The id asked for.
        id: String,
        /// The imported text's id.
        taken: String,
    },
    /// An id that is not 1–32 ASCII letters, digits, `-` or `_`.
    #[error("编号“{0}”不可用：编号须为 1–32 个英文字母、数字、- 或 _。")]
    BadId(String),
}

/// The loaded documents: the shipped ones (from `data/`, by id) first, then the
/// imported ones (by id). The first shipped one is the default that chats study.
#[derive(Debug, Clone)]
pub struct Library {
    documents: Vec<Arc<Document>>,
    /// How many of `documents` come from `data/`.
    shipped: usize,
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

    /// Syncs already parsed documents (with their content hashes) and serves them from
    /// the store, with the texts imported into it (an imported text whose id a shipped
    /// one now uses is shadowed by the shipped one).
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
        let shipped = documents.len();
        for record in store.imported_texts()? {
            if documents.iter().any(|d| d.id == record.id) {
                tracing::warn!(document = %record.id, "an imported text is shadowed by data/texts");
                continue;
            }
            match store.load_document(&record.id)? {
                Some(document) => documents.push(Arc::new(document)),
                None => tracing::warn!(document = %record.id, "an imported text has no sections"),
            }
        }
        Ok((Self { documents, shipped }, LoadReport { synced }))
    }

    /// Stores an imported text under its id (refusing a shipped text's id, and an
    /// imported one's unless `replace`). What is stored is the data-file form read back
    /// by the data-file parser: exactly what an editor would get by shipping the
    /// `--dry-run` output in `data/texts/`, validated the same way.
    pub fn store_import(
        &self,
        store: &Store,
        imported: &Imported,
        source: &str,
        replace: bool,
        now: DateTime<Utc>,
    ) -> Result<Document, LibraryError> {
        let id = &imported.document.id;
        if !valid_id(id) {
            return Err(LibraryError::BadId(id.clone()));
        }
        // Ids differing only in case would be one text to a person typing `/use`.
        if let Some(shipped) = self
            .shipped()
            .iter()
            .find(|d| d.id.eq_ignore_ascii_case(id))
        {
            return Err(LibraryError::ShippedId(shipped.id.clone()));
        }
        if let Some(twin) = self
            .imported()
            .iter()
            .find(|d| d.id.eq_ignore_ascii_case(id) && d.id != *id)
        {
            return Err(LibraryError::TwinId {
                id: id.clone(),
                taken: twin.id.clone(),
            });
        }
        if !replace && self.imported().iter().any(|d| &d.id == id) {
            return Err(LibraryError::TakenId(id.clone()));
        }
        let file = data_file(&imported.document, source);
        let document = parse_document(&format!("{id}.md"), &file)?;
        let record = ImportedText {
            id: id.clone(),
            source: source.to_string(),
            imported_at: now,
            content_hash: content_hash(file.as_bytes()),
        };
        store.store_imported(&document, &record)?;
        Ok(document)
    }

    /// This library with `document` (just stored with [`Library::store_import`]) served
    /// among the imported texts, in place of an earlier version with the same id.
    pub fn with_imported(&self, document: Document) -> Self {
        let mut documents = self.documents.clone();
        match documents[self.shipped..]
            .iter()
            .position(|d| d.id == document.id)
        {
            Some(at) => documents[self.shipped + at] = Arc::new(document),
            None => {
                documents.push(Arc::new(document));
                documents[self.shipped..].sort_by(|a, b| a.id.cmp(&b.id));
            }
        }
        Self {
            documents,
            shipped: self.shipped,
        }
    }

    /// The document chats study by default.
    pub fn default_document(&self) -> &Arc<Document> {
        &self.documents[0]
    }

    /// A document by id.
    pub fn document(&self, id: &str) -> Option<&Arc<Document>> {
        self.documents.iter().find(|d| d.id == id)
    }

    /// All documents: the shipped ones by id, then the imported ones by id.
    pub fn documents(&self) -> &[Arc<Document>] {
        &self.documents
    }

    /// The documents shipped in `data/texts`.
    pub fn shipped(&self) -> &[Arc<Document>] {
        &self.documents[..self.shipped]
    }

    /// The documents imported into the store.
    pub fn imported(&self) -> &[Arc<Document>] {
        &self.documents[self.shipped..]
    }
}

/// Whether `id` can name a text: 1–32 ASCII letters, digits, `-` or `_` (as the data
/// file requires).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A content hash that stays the same across builds and platforms (FNV-1a, 64 bit).
pub fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::import::same_place;
    use crate::text::{SectionId, parse_document};

    const REPORT: &str = "---\nid: zr\ntitle: 报告\n---\n# 1 回顾 [full]\n去年很好。\n## 1.1 经济 [full]\n增长。\n# 2 任务 [full]\n今年更好。\n";

    #[test]
    fn a_new_version_keeps_each_reader_at_the_same_section() {
        let old = parse_document("r.md", REPORT).unwrap();
        let new = parse_document(
            "r.md",
            &REPORT.replace("# 2 任务", "## 1.2 民生 [full]\n就业稳。\n# 2 任务"),
        )
        .unwrap();
        let at = |document: &Document, position: usize| document.sections[position].id;
        assert_eq!(at(&old, 2), SectionId::part(2));
        assert_eq!(at(&new, same_place(&old, &new, 2)), SectionId::part(2));
        // A later round stays a later round.
        assert_eq!(same_place(&old, &new, 3 + 2), 4 + 3);
        // A section the new version lacks: the same index.
        assert_eq!(same_place(&new, &old, 3), 2);
    }
}
