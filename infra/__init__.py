"""The Pulumi program: validated stack configuration in, component tree out."""
