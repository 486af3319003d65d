"""Evidence: run folders (runs), the shape of their JSON (shapes), the report and its JUnit XML."""
