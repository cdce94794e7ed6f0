//! sea-orm entities, one module per table (see DESIGN.md "Data model").

pub mod access_rule;
pub mod api_token;
pub mod audit;
pub mod charger;
pub mod charger_event;
pub mod charger_fault;
pub mod charger_password_offer;
pub mod charger_variable;
pub mod connector;
pub mod driver;
pub mod driver_group;
pub mod id_token;
pub mod invitation;
pub mod membership;
pub mod message_log;
pub mod meter_value;
pub mod organisation;
pub mod recovery_code;
pub mod site;
pub mod tariff;
pub mod ticket;
pub mod ticket_comment;
pub mod transaction;
pub mod user;
pub mod values;
