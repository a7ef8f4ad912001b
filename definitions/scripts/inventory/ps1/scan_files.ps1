# scan_files: every file under the folder (sorted), with its size and sha256; a receipt at the folder's top
# level (*RECEIPT.yaml, what generate_receipt writes) is the validation's own output and left out.
# Output (stdout, JSON): { file_list, total_files, scan_timestamp, file_manifest: [{path, size, sha256}] }
param([Parameter(Mandatory = $true)][string]$Folder)
. "$PSScriptRoot/common.ps1"

$root = Resolve-FromCaller $Folder
if (-not (Test-Path -LiteralPath $root -PathType Container)) { Fail "target folder $Folder does not exist or is not a folder" }
$rootFull = (Resolve-Path -LiteralPath $root).Path
$manifest = @(Get-ChildItem -LiteralPath $rootFull -Recurse -File -Force |
    ForEach-Object {
        $rel = [System.IO.Path]::GetRelativePath($rootFull, $_.FullName).Replace('\', '/')
        if ($rel -notmatch '/' -and $rel -match 'RECEIPT\.ya?ml$') { return }   # -match ignores case
        [pscustomobject]@{ path = $rel; size = $_.Length; sha256 = (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash.ToLowerInvariant() }
    } | Sort-Object -Property path -CaseSensitive)
[Console]::Error.WriteLine("${Folder}: $($manifest.Count) files")
Write-TaskOutput ([ordered]@{
    file_list      = @($manifest | ForEach-Object { $_.path })
    total_files    = $manifest.Count
    scan_timestamp = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd\THH:mm:ss\Z')
    file_manifest  = $manifest
})
