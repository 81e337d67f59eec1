//! Who is calling: identity mappings turn a verified token into an identity carrying
//! policies, roles and the permission bitmask.

mod callers;
mod identity_mappings;
mod mapping;
mod mapping_table;
mod model;
mod resolve;

pub(crate) use callers::{Callers, Current};
pub(crate) use identity_mappings::IdentityMappings;
pub use mapping::{CompiledMapping, MappingFields};
pub(crate) use mapping_table::{LoadedMapping, MappingTable};
pub use model::Identity;
pub(crate) use resolve::{MappingTrace, Resolved, resolve};
