//! Where the rejects sink's rows go: a local JSON Lines file, or
//! S3-compatible object storage. The sink ([`super::rejects`]) counts and
//! logs; a store only takes whole lines and, on `flush`, makes every line
//! so far durable — it is called before any state that counts them.
//!
//! In object storage, lines gather in memory for the current state window
//! and each flush that has any uploads them as ONE JSON Lines object,
//! `{prefix}/{sync_id}/part-00001.jsonl`, `part-00002.jsonl`, ...; a part is
//! also uploaded early once it holds [`PART_BOUND`] bytes, so memory stays
//! bounded.

use std::collections::hash_map::RandomState;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::S3Storage;
use crate::s3::S3Bucket;

/// Bytes of rows held in memory before a part is uploaded early.
pub(crate) const PART_BOUND: usize = 8 * 1024 * 1024;

/// A destination for rejected rows.
pub(crate) enum RejectsStore {
    File {
        writer: BufWriter<File>,
        path: PathBuf,
    },
    S3(Box<S3Parts>),
}

/// Rows for object storage, uploaded in parts.
pub(crate) struct S3Parts {
    bucket: S3Bucket,
    /// `{prefix}/{sync_id}`: every part of this sync is under it.
    folder: String,
    buffer: Vec<u8>,
    /// Parts uploaded so far.
    parts: u32,
    /// Rows taken, and rows in uploaded parts.
    rows: u64,
    uploaded_rows: u64,
    bound: usize,
}

impl RejectsStore {
    /// Appends to the JSON Lines file at `path`.
    pub(crate) fn file(path: &Path) -> Result<RejectsStore> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open rejected_records_path {}", path.display()))?;
        Ok(RejectsStore::File {
            writer: BufWriter::new(f),
            path: path.to_path_buf(),
        })
    }

    /// Uploads to object storage, after proving the bucket takes these
    /// credentials: a sync must not start when its rejects would be lost.
    pub(crate) fn s3(storage: &S3Storage, timeout: Duration) -> Result<RejectsStore> {
        let bucket = S3Bucket::new(storage, timeout).map_err(anyhow::Error::msg)?;
        bucket.probe().map_err(anyhow::Error::msg)?;
        let folder = match bucket.prefix() {
            "" => sync_id(),
            prefix => format!("{prefix}/{}", sync_id()),
        };
        Ok(RejectsStore::S3(Box::new(S3Parts {
            bucket,
            folder,
            buffer: Vec::new(),
            parts: 0,
            rows: 0,
            uploaded_rows: 0,
            bound: PART_BOUND,
        })))
    }

    /// Takes one whole line (ending in `\n`). `Err` is a row that could not
    /// be kept: the sync must fail before any state counts it.
    pub(crate) fn put_line(&mut self, line: &[u8]) -> Result<(), String> {
        match self {
            RejectsStore::File { writer, path } => {
                writer.write_all(line).map_err(|e| file_failed(path, &e))
            }
            RejectsStore::S3(s3) => {
                s3.buffer.extend_from_slice(line);
                s3.rows += 1;
                if s3.buffer.len() >= s3.bound {
                    s3.upload()?;
                }
                Ok(())
            }
        }
    }

    /// Makes every line so far durable: the file flushed, or the buffered
    /// lines uploaded as one object.
    pub(crate) fn flush(&mut self) -> Result<(), String> {
        match self {
            RejectsStore::File { writer, path } => {
                writer.flush().map_err(|e| file_failed(path, &e))
            }
            RejectsStore::S3(s3) if s3.buffer.is_empty() => Ok(()),
            RejectsStore::S3(s3) => s3.upload(),
        }
    }

    /// Where the rows went, for the summary; `None` for a file (the user
    /// named it) or when nothing was uploaded.
    pub(crate) fn uploaded(&self) -> Option<String> {
        match self {
            RejectsStore::S3(s3) if s3.parts > 0 => Some(format!(
                "{} rejected row(s) uploaded as {} object(s) under s3://{}/{}/",
                s3.uploaded_rows,
                s3.parts,
                s3.bucket.bucket(),
                s3.folder
            )),
            _ => None,
        }
    }
}

impl S3Parts {
    /// Uploads the buffer as the next part.
    fn upload(&mut self) -> Result<(), String> {
        let key = format!("{}/part-{:05}.jsonl", self.folder, self.parts + 1);
        self.bucket
            .put(&key, &self.buffer, "application/x-ndjson")?;
        self.parts += 1;
        self.buffer.clear();
        self.uploaded_rows = self.rows;
        Ok(())
    }
}

fn file_failed(path: &Path, e: &std::io::Error) -> String {
    format!(
        "writing the rejected-records file {} failed: {e}",
        path.display()
    )
}

/// This sync's folder name: its UTC start time, then a random suffix so
/// that syncs started in the same second never share a folder, e.g.
/// `20261109T101112Z-3f2a9c1b`. Names sort by start time.
pub(crate) fn sync_id() -> String {
    let now = jiff::Timestamp::now();
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_i128(now.as_nanosecond());
    format!(
        "{}-{:08x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        h.finish() as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_ids_sort_by_time_and_differ() {
        let a = sync_id();
        let b = sync_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), "20261109T101112Z-3f2a9c1b".len(), "{a}");
        assert!(a.ends_with(|c: char| c.is_ascii_hexdigit()));
        assert_eq!(&a[8..9], "T");
        assert_eq!(&a[15..17], "Z-");
    }
}
