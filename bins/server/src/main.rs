//! The ytvc server binary.

fn main() {}
