/* noentry.c - a shared object that is not an adapter (no xr_adapter_entry). */
int xr_not_an_adapter(void);

int xr_not_an_adapter(void)
{
	return 42;
}
