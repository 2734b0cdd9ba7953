"""Invoice PDFs: layout and rendering with borb, embedded fonts, and the per-version cache."""
