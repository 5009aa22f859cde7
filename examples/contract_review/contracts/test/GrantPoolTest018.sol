// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title GrantPool
/// @notice A grant pool run by a governor.
contract GrantPoolTest018 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public serviceFeeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public holders;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function rescueEther(address payable to, uint256 amount) external onlyOwner {
        require(address(this).balance - totalHeld >= amount, "would touch deposits");
        emit Swept(to, amount);
        to.transfer(amount);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function creditBatch(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= holders.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            deposits[holders[i]] += share;
        }
        totalHeld += share * count;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        holders.push(msg.sender);
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = deposits[msg.sender];
        require(amount > 0, "nothing to claim");
        deposits[msg.sender] = 0;
        totalHeld -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256) {
        return totalHeld;
    }

    /// @notice `account`'s share of the pool, in basis points.
    function sharePercent(address account) external view returns (uint256) {
        if (totalHeld == 0) {
            return 0;
        }
        return deposits[account] * BPS_DENOMINATOR / totalHeld;
    }
}
