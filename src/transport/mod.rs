//! How commands reach nodes. Everything above this layer speaks argv and never knows
//! about SSH; quoting for a remote shell happens here and only here.
