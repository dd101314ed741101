//! placeholder: the parser (being written)
