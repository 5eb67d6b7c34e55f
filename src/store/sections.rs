//! Documents and their sections: written when the data file changed, read to serve lookups.

use serde::{Deserialize, Serialize};

use super::{Store, StoreResult, trees};
use crate::text::{Document, Section};

/// What [`Store::sync_document`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The stored copy already had this content hash: nothing was written.
    Unchanged,
    /// The document was (re)written.
    Written,
}

/// A document's metadata as stored; its sections live in their own tree.
#[derive(Debug, Serialize, Deserialize)]
struct DocumentRecord {
    id: String,
    title: String,
    occasion: String,
    note: String,
    content_hash: u64,
    sections: usize,
}

fn document_key(id: &str) -> Vec<u8> {
    format!("document:{id}").into_bytes()
}

fn section_prefix(document: &str) -> Vec<u8> {
    let mut key = document.as_bytes().to_vec();
    key.push(0);
    key
}

fn section_key(document: &str, section: &Section) -> Vec<u8> {
    let mut key = section_prefix(document);
    key.extend([section.id.part, section.id.point]);
    key
}

/// Checks the texts of a backup: every document record in `meta` decodes and has its
/// sections in `sections` (a start trusts a record whose content hash matches and does
/// not write the sections again), and every section decodes under its own key.
pub(super) fn check_backup_texts(
    meta: &[(&[u8], &[u8])],
    sections: &[(&[u8], &[u8])],
) -> Result<(), String> {
    for (key, value) in sections {
        let section: Section = serde_json::from_slice(value)
            .map_err(|error| format!("{}: {error}", trees::SECTIONS))?;
        if !key.ends_with(&[0, section.id.part, section.id.point]) {
            return Err(format!(
                "{}: section {} is stored under another section's key",
                trees::SECTIONS,
                section.id
            ));
        }
    }
    for (key, value) in meta {
        let Some(id) = key.strip_prefix(b"document:") else {
            continue;
        };
        let record: DocumentRecord = serde_json::from_slice(value)
            .map_err(|error| format!("{}: document record: {error}", trees::META))?;
        let prefix = section_prefix(&String::from_utf8_lossy(id));
        let found = sections
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .count();
        if found != record.sections {
            return Err(format!(
                "document {} should have {} sections, the backup has {found}",
                record.id, record.sections
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Stores `document` unless the stored copy has the same `content_hash`. The record
    /// with the hash is written last, so an interrupted rewrite is redone on the next start.
    pub fn sync_document(
        &self,
        document: &Document,
        content_hash: u64,
    ) -> StoreResult<SyncOutcome> {
        let key = document_key(&document.id);
        if let Some(record) = self.get_json::<DocumentRecord>(trees::META, &key)?
            && record.content_hash == content_hash
        {
            return Ok(SyncOutcome::Unchanged);
        }
        for (old, _) in self.scan_prefix(trees::SECTIONS, &section_prefix(&document.id))? {
            self.backend().remove(trees::SECTIONS, &old)?;
        }
        for section in &document.sections {
            self.put_json(
                trees::SECTIONS,
                &section_key(&document.id, section),
                section,
            )?;
        }
        let record = DocumentRecord {
            id: document.id.clone(),
            title: document.title.clone(),
            occasion: document.occasion.clone(),
            note: document.note.clone(),
            content_hash,
            sections: document.sections.len(),
        };
        self.put_json(trees::META, &key, &record)?;
        self.flush()?;
        Ok(SyncOutcome::Written)
    }

    /// Reads a document back from the store.
    pub fn load_document(&self, id: &str) -> StoreResult<Option<Document>> {
        let Some(record) = self.get_json::<DocumentRecord>(trees::META, &document_key(id))? else {
            return Ok(None);
        };
        let sections: Vec<Section> = self
            .scan_json(trees::SECTIONS, &section_prefix(id))?
            .into_iter()
            .map(|(_, section)| section)
            .collect();
        if sections.len() != record.sections {
            return Err(super::StoreError::Corrupt {
                tree: trees::SECTIONS,
                reason: format!(
                    "document {id} should have {} sections, found {}",
                    record.sections,
                    sections.len()
                ),
            });
        }
        Ok(Some(Document {
            id: record.id,
            title: record.title,
            occasion: record.occasion,
            note: record.note,
            sections,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::stores;
    use crate::text::parse_document;

    const SPEECH: &str = include_str!("../../data/texts/xzsj.md");

    #[test]
    fn documents_round_trip_in_both_backends() {
        let document = parse_document("xzsj.md", SPEECH).unwrap();
        for (_, store, _dir) in stores() {
            assert_eq!(store.load_document("xzsj").unwrap(), None);
            assert_eq!(
                store.sync_document(&document, 1).unwrap(),
                SyncOutcome::Written
            );
            assert_eq!(
                store.sync_document(&document, 1).unwrap(),
                SyncOutcome::Unchanged
            );
            assert_eq!(
                store.load_document("xzsj").unwrap().as_ref(),
                Some(&document)
            );
            let mut changed = document.clone();
            changed.sections.pop();
            assert_eq!(
                store.sync_document(&changed, 2).unwrap(),
                SyncOutcome::Written
            );
            assert_eq!(store.load_document("xzsj").unwrap(), Some(changed));
        }
    }
}
