//! The inputs of the `small-writes` section: a table's CSV files cut into many
//! small files of consecutive records, each then imported as its own write, the
//! way a collector running every few minutes writes a lake.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::import::open_input;

/// Writes the records of `files` (CSV with a header, `.gz` read as gzip) as
/// `parts` CSV files of about equal size in `out`, in order; returns their paths.
pub fn split_csv(files: &[PathBuf], rows: u64, parts: usize, out: &Path) -> Result<Vec<PathBuf>> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let csv_error = |path: &Path| {
        let path = path.to_path_buf();
        move |e: csv::Error| Error::Io {
            path,
            source: std::io::Error::other(e),
        }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let per_part = rows.div_ceil(parts.max(1) as u64).max(1);
    let mut written = Vec::new();
    let mut writer: Option<csv::Writer<File>> = None;
    let mut in_part = 0u64;
    for file in files {
        let gzip = file.extension().is_some_and(|e| e == "gz");
        let mut reader = csv::Reader::from_reader(open_input(file, gzip)?);
        let header = reader.byte_headers().map_err(csv_error(file))?.clone();
        for record in reader.byte_records() {
            let record = record.map_err(csv_error(file))?;
            if writer.is_none() || in_part == per_part {
                if let Some(mut w) = writer.take() {
                    w.flush().map_err(io(out))?;
                }
                let path = out.join(format!("part-{:05}.csv", written.len() + 1));
                let mut w = csv::Writer::from_path(&path).map_err(csv_error(&path))?;
                w.write_byte_record(&header).map_err(csv_error(&path))?;
                written.push(path);
                writer = Some(w);
                in_part = 0;
            }
            if let Some(w) = writer.as_mut() {
                w.write_byte_record(&record).map_err(csv_error(out))?;
            }
            in_part += 1;
        }
    }
    if let Some(mut w) = writer {
        w.flush().map_err(io(out))?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_cut_in_order_with_the_header_in_every_part() {
        let dir = tempfile::tempdir().expect("dir");
        let a = dir.path().join("a.csv");
        std::fs::write(&a, "id,msg\n1,\"two\nlines\"\n2,x\n3,y\n").expect("write");
        let b = dir.path().join("b.csv");
        std::fs::write(&b, "id,msg\n4,z\n5,w\n").expect("write");
        let parts = split_csv(&[a, b], 5, 3, &dir.path().join("out")).expect("split");
        let texts: Vec<String> = parts
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("read"))
            .collect();
        assert_eq!(
            texts,
            vec![
                "id,msg\n1,\"two\nlines\"\n2,x\n",
                "id,msg\n3,y\n4,z\n",
                "id,msg\n5,w\n",
            ]
        );
    }
}
