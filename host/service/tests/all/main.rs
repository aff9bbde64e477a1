//! Integration tests of the service: a real server on a loopback port,
//! real HTTP requests, real strategies.

mod api_errors;
mod leases;
mod lifecycle;
mod openapi;
mod postgres;
mod support;
mod tenants;
