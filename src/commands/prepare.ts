export async function prepareCommand(o: unknown) { console.log(o); }
