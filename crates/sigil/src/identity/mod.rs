//! Who is calling: identity mappings turn a verified token into an identity carrying
//! policies, roles and the permission bitmask.

mod callers;
mod identity_mappings;
mod mapping;
mod mapping_table;
mod model;
mod resolve;

pub use callers::{Callers, Current};
pub use identity_mappings::IdentityMappings;
pub use mapping::{CompiledMapping, MappingFields, MappingOutcome, slug};
pub use mapping_table::{LoadedMapping, MappingTable};
pub use model::Identity;
pub use resolve::{MappingTrace, MappingTried, Resolved, resolve};
