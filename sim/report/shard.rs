//! A shard's output: one shard file (gzip-compressed JSON, see `analysis::shard`) in the
//! shard's results folder, written through `Staging` like every output.

use std::io::Write;
use std::path::PathBuf;

use crate::analysis::shard::ShardFile;
use crate::error::OutputError;
use crate::report::output::Staging;

/// The shard file's bytes. JSON without indentation (the histograms are long lists), then
/// DEFLATE in a gzip wrapper so `zcat` reads it; level 6, the usual trade of size for time.
pub fn encode(file: &ShardFile) -> Result<Vec<u8>, OutputError> {
    let what = "the shard file";
    let encode = |message: String| OutputError::Encode { what, message };
    let json = serde_json::to_vec(file).map_err(|e| encode(e.to_string()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&json).map_err(|e| encode(e.to_string()))?;
    gz.finish().map_err(|e| encode(e.to_string()))
}

/// Writes the shard file and commits the folder; returns the file's path.
pub fn write_shard(staging: Staging, file: &ShardFile) -> Result<PathBuf, OutputError> {
    let name = ShardFile::name(file.manifest.shard);
    staging.write(&name, &encode(file)?)?;
    Ok(staging.commit()?.join(name))
}
