//! sea-orm entities, one module per table (see DESIGN.md "Data model").

pub mod api_token;
pub mod audit;
pub mod charger;
pub mod charger_event;
pub mod connector;
pub mod membership;
pub mod organisation;
pub mod site;
pub mod ticket;
pub mod ticket_comment;
pub mod user;
