//! sea-orm entities, one module per table (see DESIGN.md "Data model").

pub mod charger;
pub mod connector;
pub mod organisation;
