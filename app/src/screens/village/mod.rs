//! A village's page ("Mijn dorp") and its tabs: the board, help, the agenda, initiatives and,
//! for its broker, reports. The tabs share the open document through [`context::Village`].

pub mod agenda;
pub mod board;
pub mod context;
pub mod help;
pub mod initiatives;
pub mod moderation;
pub mod page;
