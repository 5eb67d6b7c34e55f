//! Headless Chromium through the reader and the dashboard.
