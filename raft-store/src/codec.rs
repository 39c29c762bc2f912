//! bincode encoding for everything raft-store writes to disk or puts on the
//! wire (openraft messages inside `RaftPayload`, log entries, state).

use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, io::Error> {
    bincode::serde::encode_to_vec(value, config())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, io::Error> {
    let (value, read) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if read != bytes.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} trailing bytes after value", bytes.len() - read),
        ));
    }
    Ok(value)
}
