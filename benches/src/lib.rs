//! Criterion benchmarks of the stratbox runtime; see `benches/` and
//! `BENCHMARKS.md`. This library is empty.
