//! Carrying out a Plan over transports: guarded, parallel, resumable, locked.
//! Apply never decides what to do; the plan already did.
