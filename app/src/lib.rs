//! The Dorpskracht app.
