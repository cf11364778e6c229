//! Reading lines with a length limit, keeping byte offsets.
