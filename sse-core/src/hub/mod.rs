//! placeholder: the hub (being written)
