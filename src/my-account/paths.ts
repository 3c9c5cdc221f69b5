// Where the citizen's account lives: its own module, so that the sign-in and the
// pages can both name it without importing each other.
export const ACCOUNT_PATH = '/account';
