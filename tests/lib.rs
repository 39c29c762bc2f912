//! End-to-end tests of raftplane through real processes and clients; see it/main.rs.
