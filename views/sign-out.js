// The citizen confirmed once, at nixa: send the sign-out on to the identity source
// at once. Without scripts, the form's own button does the same.
document.getElementById('source-sign-out')?.submit();
