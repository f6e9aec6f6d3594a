"""Streamlit building blocks shared by the dashboard's pages (the core stays in seqattn/)."""
