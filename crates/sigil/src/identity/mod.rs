//! Who is calling: identity mappings turn a verified token into an identity carrying
//! policies, roles and the permission bitmask.

mod callers;
mod mapping;
mod mappings;
mod model;
mod resolve;

pub use callers::{Callers, Current};
pub use mapping::{CompiledMapping, MappingFields, MappingOutcome, slug};
pub use mappings::{IdentityMappings, LoadedMapping, MappingTable};
pub use model::Identity;
pub use resolve::{MappingTrace, MappingTried, Resolved, resolve};
