//! One file per demo. Each file's `// region:demo` is the code lessons show.

mod gather;

use super::Demo;

pub(crate) static ALL: &[&dyn Demo] = &[&gather::Gather];
