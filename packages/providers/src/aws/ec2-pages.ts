/**
 * Every page of a paginated EC2 describe call. EC2 may answer a filtered describe with an empty
 * page that still carries a NextToken (it filters after reading a page of resources), so only a
 * missing NextToken ends the listing, never an empty page. Each page is its own callAws call:
 * its own limiter point, timeout and retries.
 */

/** Page size: the largest EC2 accepts for DescribeVolumes (500) fits every describe we use. */
export const EC2_PAGE_SIZE = 500;

/**
 * A guard against a service (or a fake) that hands back the same token forever: 100,000 pages of
 * 500 is far beyond any account's volumes or snapshots.
 */
const MAX_PAGES = 100_000;

export async function allPages<T>(
  fetchPage: (nextToken: string | undefined) => Promise<{ items: readonly T[] | undefined; nextToken: string | undefined }>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, nextToken } = await fetchPage(token);
    out.push(...(items ?? []));
    if (!nextToken) return out;
    token = nextToken;
  }
  throw new Error(`EC2 listing did not end after ${MAX_PAGES} pages`);
}
